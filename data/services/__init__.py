"""The reads and checked writes pages call, each taking the viewer and returning what it may see."""
