"""Common building blocks of the academy's services: settings, database, events, bus, web, auth."""
