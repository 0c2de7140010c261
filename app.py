"""The Chalice app: wiring only. Routes live in chalicelib/api, handlers in chalicelib/events."""

from chalicelib.api import (
    changes,
    declarations,
    delivery_partners,
    docs,
    exports,
    participants,
    partnerships,
    rate_limits,
    schools,
    unfunded_mentors,
)
from chalicelib.api.application import Application
from chalicelib.events import handlers

app = Application(app_name="ecf-lp-api")
app.experimental_feature_flags.update({"BLUEPRINTS"})
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
