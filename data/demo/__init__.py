"""The synthetic England of the demo: its world, its results over years, the DfE files it writes."""
