"""The PlexiChat chat service: a small FastAPI chat API instrumented by ``plexichat.observability``.

``create_app(settings)`` builds the application; ``plexichat-obs serve`` runs it under uvicorn.
Endpoints (all JSON; IDs are integers, timestamps UTC):

- ``POST /api/users`` register (201; 409 when the username is taken), ``GET /api/users/{id}``
- ``POST /api/messages`` send a direct message (422 naming the field when a user does not exist)
- ``GET /api/users/{id}/posts?limit=`` the user's posts with username and comment count -- one
  SQL statement, the guide's posts/users/comments query
- ``POST /api/posts``, ``POST /api/posts/{id}/comments``, ``GET /api/posts/popular?limit=``
- ``GET /healthz`` liveness, ``GET /readyz`` database reachable (503 otherwise),
  ``GET /openapi.json``; ``/metrics`` is added by ``plexichat.observability``.
"""

from plexichat.service.app import create_app

__all__ = ["create_app"]
