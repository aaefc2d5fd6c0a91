"""reviewbot: keeps a customer-service policy alive by connecting feedback to the sections it concerns."""

__version__ = "0.1.0"
