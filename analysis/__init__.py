"""The analysis stage: exploration tables, machine learning and the prediction service on the marts."""
