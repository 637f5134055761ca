"""Plotly figure builders, by kind of figure; pages choose what to draw, these decide how it looks."""
