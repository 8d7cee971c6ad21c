from django.http import HttpResponse


def grid_card(request, code, printable=False):
    return HttpResponse(code)


def report_entry(request, grid_code):
    return HttpResponse(grid_code)
