"""Platform services of the sandbox around the fleet: world data (``world``) and restic backups (``backups``)."""
