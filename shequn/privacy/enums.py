from django.db import models
from django.utils.translation import gettext_lazy


class RequestKind(models.TextChoices):
    EXPORT = "export", gettext_lazy("导出数据")  # the member downloaded their data
    DELETION = "deletion", gettext_lazy("注销账号")  # the member asked to delete their account


class RequestOutcome(models.TextChoices):
    DONE = "done", gettext_lazy("已完成")  # the export was handed over, or the account anonymised
    REFUSED = "refused", gettext_lazy("已拒绝")  # deletion refused while something still needs the member (see note)


class ExportFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", gettext_lazy("CSV（zip）")
