"""Compliance: the controls catalog (compliance/controls.yaml), its consistency check and the scorer that
judges it against a run's evidence (suites/compliance).
"""
