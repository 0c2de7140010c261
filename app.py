"""The Chalice app: wiring only. Routes live in chalicelib/api, handlers in chalicelib/events."""

from chalicelib.api import (
    changes,
    declarations,
    delivery_partners,
    docs,
    exports,
    observability,
    participants,
    partnerships,
    rate_limits,
    schools,
    unfunded_mentors,
)
from chalicelib.api.application import Application
from chalicelib.events import api_requests, handlers

app = Application(app_name="ecf-lp-api")
app.experimental_feature_flags.update({"BLUEPRINTS"})
# Outermost first: request ids, the 500 body, the log line (the audit record) and metrics of every request.
app.register_middleware(observability.middleware, "http")
# Then the rate limiter (docs/rate-limits.md): its 401s and 429s pass through the log line above.
app.register_middleware(rate_limits.middleware, "http")

for blueprint in (
    schools.bp,
    delivery_partners.bp,
    partnerships.bp,
    participants.bp,
    declarations.bp,
    unfunded_mentors.bp,
    exports.bp,
    changes.bp,
    docs.bp,
):
    app.register_blueprint(blueprint)

handlers.register(app)
api_requests.register(app)
