from django.db import models


class RequestKind(models.TextChoices):
    EXPORT = "export", "导出数据"  # the member downloaded their data
    DELETION = "deletion", "注销账号"  # the member asked to delete their account


class RequestOutcome(models.TextChoices):
    DONE = "done", "已完成"  # the export was handed over, or the account anonymised
    REFUSED = "refused", "已拒绝"  # deletion refused while something still needs the member (see note)


class ExportFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV（zip）"
