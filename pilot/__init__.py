"""smartcar-pilot, the ground every layer may import: settings, errors and the date values."""
