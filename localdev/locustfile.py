"""``make load``'s one user: GET the first page of v3 participants as one lead provider, back to back.

Run by ``localdev.load`` (``locust -f localdev/locustfile.py --headless ...``) with ``LOAD_TOKEN`` set.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

PATH = "/api/v3/participants/ecf"


class Participants(FastHttpUser):
    wait_time = constant(0)  # back to back: the server's capacity, not a think time

    @task
    def first_page(self) -> None:
        self.client.get(PATH, headers={"Authorization": f"Bearer {os.environ['LOAD_TOKEN']}"}, name=PATH)
