"""The sandbox monitoring stack: Prometheus config and alert rules, the fleet exporter, and the daemons that run them."""
