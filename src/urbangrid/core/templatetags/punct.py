"""`{% p "：" %}`: a punctuation mark between a translated label and a value. Chinese keeps the full-width
mark; other languages get the ASCII one with its space ("Welcome, Li"), so English pages never show "，" or "："."""
from django import template
from django.utils.translation import get_language

register = template.Library()

ASCII = {"：": ": ", "，": ", ", "、": ", ", "；": "; ", "。": ". ", "（": " (", "）": ")", "！": "! ", "？": "? "}


def ascii_punctuation(mark: str, language: str | None = None) -> str:
    language = (language or get_language() or "zh-hans").lower()
    if language.startswith("zh"):
        return mark
    return "".join(ASCII.get(ch, ch) for ch in mark)


@register.simple_tag
def p(mark):
    return ascii_punctuation(mark)
