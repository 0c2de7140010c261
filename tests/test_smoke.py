import json

from tests.conftest import body


def test_post_then_get(world, client):
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    token = world.token(lp)
    dp = world.delivery_partner(lp, [2024])
    school = world.school()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"}
    payload = {"data": {"type": "ecf-partnership", "attributes": {"cohort": "2024", "school_id": school.id, "delivery_partner_id": dp.id}}}
    r = client.http.post("/api/v3/partnerships/ecf", headers=headers, body=json.dumps(payload))
    print(r.status_code, r.body)
    assert r.status_code == 200
    r = client.http.get("/api/v3/partnerships/ecf", headers=headers)
    print(r.body)
    assert len(body(r)["data"]) == 1
    r = client.http.get("/api/v3/schools/ecf?filter[cohort]=2024", headers=headers)
    print(r.body)
    r = client.http.get("/api/v3/delivery-partners", headers=headers)
    print(r.body)
    r = client.http.post("/api/v3/partnerships/ecf", headers=headers, body=json.dumps(payload))
    print(r.status_code, r.body)
