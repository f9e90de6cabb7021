"""`sentra rollouts`: a client of the service for people and scripts.

It talks to the service over HTTP and WebSocket only; it imports nothing of the API, the store or
the controller, so it runs against any Sentra service it can reach.
"""
