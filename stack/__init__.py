"""Native runtime of the real services: install, start, stop, status and logs."""
