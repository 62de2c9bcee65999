"""Team console of figures: ``/kpi`` (and its chart), the daily and weekly reports, the
anomaly alerts; the reports loop."""
