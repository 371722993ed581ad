"""The sandbox hosting-platform API (server side): engine, world data, restic backups, HTTP/TLS, the Pterodactyl face, and the daemon control."""
