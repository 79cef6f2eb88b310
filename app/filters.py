"""Jinja filters: formatting stays out of templates."""
from flask import Flask


def format_points(value: float | None) -> str:
    """French decimal display of points: 12.5 -> '12,5', 3.0 -> '3'."""
    if value is None:
        return "–"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def register_filters(app: Flask) -> None:
    app.add_template_filter(format_points)
