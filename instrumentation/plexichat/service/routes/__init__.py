"""The ``/api`` routes, one module per resource; ``api_router`` mounts them all."""

from fastapi import APIRouter, Depends

from plexichat.service.dependencies import count_api_call
from plexichat.service.routes import messages, posts, users

api_router = APIRouter(prefix="/api", dependencies=[Depends(count_api_call)])
api_router.include_router(users.router)
api_router.include_router(messages.router)
api_router.include_router(posts.router)

__all__ = ["api_router"]
