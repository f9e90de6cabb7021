"""Kubernetes routers: Gateway API HTTPRoute weights, ingress-nginx canary annotations, and the
replica ratio of two Deployments behind one Service.

Each changes one object by optimistic concurrency: read it, write under the resourceVersion just
read, and on 409 Conflict read again, a bounded number of times (``api.update``).
"""
