"""The web layer: one blueprint per area. Views parse, call the domain, render."""
