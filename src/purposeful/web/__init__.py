"""Purpose scopes per request for web services: FastAPI and Starlette, Django, plain WSGI.

Declare each route's purpose on its endpoint or view with `purpose` (or exempt it with
`no_purpose`); a middleware opens ``purposeful.use(purpose, actor=...)`` around each
request, with the actor the application's authentication gives, or the actor and upstream
scope of a signed purpose claim from another of the agency's services
(`purposeful.propagation`); a refusal is answered with an RFC 9457 problem. The framework
modules load when first imported, each needing its framework:

- `purposeful.web.asgi`: ``PurposeMiddleware`` for Starlette and FastAPI;
- `purposeful.web.fastapi`: a dependency that opens the scope, and problem handlers;
- `purposeful.web.django`: a middleware and a view decorator;
- `purposeful.web.wsgi`: a middleware for any WSGI application.
- `purposeful.web.tracing`: hooks for the frameworks' OpenTelemetry instrumentations,
  so the server span names the route, not the request's path (the OpenTelemetry
  API only).

What this package must not do: load a web framework on ``import purposeful.web``.
"""

from ._declare import no_purpose, purpose
from .policy import Open, RequestPolicy
from .problems import Problem, problem_for

__all__ = ["Open", "Problem", "RequestPolicy", "no_purpose", "problem_for", "purpose"]
