"""The integration suite: both faces against the real brokers that scripts/brokers runs."""
