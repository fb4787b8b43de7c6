"""The academy's five services; each is deployed on its own and never imports another."""
