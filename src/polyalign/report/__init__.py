"""Tables, figures and the replication report."""
