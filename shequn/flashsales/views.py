from django.http import HttpRequest, HttpResponse


def sale_page(request: HttpRequest, sale_id: int) -> HttpResponse:
    raise NotImplementedError


reserve_submit = buy_submit = claim_status = console_sales = console_create = sale_page
console_sale = console_edit = console_counters = console_move = sale_page
