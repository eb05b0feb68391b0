"""smartcar-pilot: settings, errors and the `pilot` command line."""
