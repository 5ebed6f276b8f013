"""What Jointly writes out: CSV, Excel and PDF reports, and the public export."""
