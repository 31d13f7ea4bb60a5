"""me/, projects/, members/ and activity/: happy paths, role rules, not-found for non-members."""

from __future__ import annotations

import pytest
from graphql_relay import to_global_id

from tasks.models import Membership, Project, Role
from tests.api.conftest import assert_problem
from tests.factories import UserFactory, acquaint, make_project, make_task

pytestmark = pytest.mark.django_db


def test_me_shows_the_token_user_in_both_versions(api, owner):
    v1 = api(owner).get("me/")
    assert v1.status_code == 200
    assert v1.json() == {
        "id": owner.pk,
        "node_id": to_global_id("User", owner.pk),
        "username": "olivia",
        "display_name": "Olivia Owner",
    }
    assert v1["API-Version"] == "v1"
    v2 = api(owner, version="v2").get("me/")
    assert v2["API-Version"] == "v2"
    assert {link["rel"] for link in v2.json()["links"]} == {"self", "projects"}


def test_project_list_shows_only_my_projects_with_my_role(api, project, viewer, outsider):
    make_project(outsider, name="Secret")
    body = api(viewer).get("projects/").json()
    assert body["count"] == 1
    assert body["results"][0]["name"] == "Apollo"
    assert body["results"][0]["role"] == "viewer"
    assert set(body) == {"count", "next", "previous", "results"}


def test_create_project_makes_the_creator_owner(api, member):
    response = api(member).post("projects/", {"name": "  Zeus ", "description": "d"})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Zeus" and body["role"] == "owner" and body["created_by"] == member.pk
    assert response["Location"].endswith(f"/api/v1/projects/{body['id']}/")
    assert Membership.objects.get(project_id=body["id"], user=member).role == Role.OWNER


def test_create_project_rejects_ownership_fields(api, member, outsider):
    response = api(member).post("projects/", {"name": "Zeus", "created_by": outsider.pk})
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"created_by": ["This field cannot be set."]}
    assert not Project.objects.filter(name="Zeus").exists()


def test_create_project_validation_codes_come_from_the_service(api, member):
    body = assert_problem(api(member).post("projects/", {"name": "   ", "description": "x"}), 400)
    assert body["errors"]["name"] == ["name is required."]
    assert body["invalid_params"] == [
        {"name": "name", "code": "required", "reason": "name is required."}
    ]
    body = assert_problem(api(member).post("projects/", {"name": "x" * 121}), 400)
    assert body["invalid_params"][0]["code"] == "too_long"


def test_get_project_v2_nests_the_creator_and_links(api, project, owner):
    body = api(owner, version="v2").get(f"projects/{project.pk}/").json()
    assert body["created_by"]["username"] == "olivia"
    rels = {(link["rel"], link["method"]) for link in body["links"]}
    assert {("self", "GET"), ("update", "PATCH"), ("delete", "DELETE")} <= rels
    assert {("members", "GET"), ("tasks", "GET"), ("activity", "GET")} <= rels
    tasks_link = next(link for link in body["links"] if link["rel"] == "tasks")
    assert tasks_link["href"].endswith(f"/api/v2/tasks/?project={project.pk}")


@pytest.mark.parametrize("path", ["", "members/", "activity/"])
def test_non_members_get_not_found_for_project_endpoints(api, project, outsider, path):
    assert_problem(api(outsider).get(f"projects/{project.pk}/{path}"), 404, "not_found")


def test_non_members_cannot_change_or_delete_a_project(api, project, outsider):
    assert_problem(api(outsider).patch(f"projects/{project.pk}/", {"name": "x"}), 404)
    assert_problem(api(outsider).delete(f"projects/{project.pk}/"), 404)
    assert Project.objects.filter(pk=project.pk, name="Apollo").exists()


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_only_the_owner_renames_or_deletes_the_project(api, project, role, request):
    user = request.getfixturevalue(role)
    assert_problem(
        api(user).patch(f"projects/{project.pk}/", {"name": "x"}), 403, "permission_denied"
    )
    assert_problem(api(user).delete(f"projects/{project.pk}/"), 403, "permission_denied")


def test_owner_renames_and_deletes_the_project(api, project, owner):
    response = api(owner).patch(f"projects/{project.pk}/", {"name": "Artemis"})
    assert response.status_code == 200 and response.json()["name"] == "Artemis"
    assert api(owner).delete(f"projects/{project.pk}/").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()


def test_members_list_is_paginated_by_page_number(api, project, viewer):
    body = api(viewer).get(f"projects/{project.pk}/members/", {"page_size": 2}).json()
    assert body["count"] == 4 and len(body["results"]) == 2
    assert "page=2" in body["next"] and body["previous"] is None
    page2 = api(viewer).get(body["next"]).json()
    assert len(page2["results"]) == 2 and page2["next"] is None
    users = [m["username"] for m in body["results"] + page2["results"]]
    assert sorted(users) == ["adam", "mia", "olivia", "victor"]


def test_members_v1_has_user_ids_v2_nested_users(api, project, owner):
    v1 = api(owner).get(f"projects/{project.pk}/members/").json()["results"][0]
    v2 = api(owner, version="v2").get(f"projects/{project.pk}/members/").json()["results"][0]
    assert v1["user"] == owner.pk and "links" not in v1
    assert v2["user"]["display_name"] == "Olivia Owner" and v2["links"]


def test_admin_adds_and_removes_a_member(api, project, admin):
    newcomer = UserFactory(username="nina")
    acquaint(admin, newcomer)
    response = api(admin).post(
        f"projects/{project.pk}/members/", {"username": "nina", "role": "member"}
    )
    assert response.status_code == 201 and response.json()["role"] == "member"
    assert api(admin).delete(f"projects/{project.pk}/members/{newcomer.pk}/").status_code == 204
    assert not Membership.objects.filter(project=project, user=newcomer).exists()


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_manage_members(api, project, role, request, outsider):
    user = request.getfixturevalue(role)
    response = api(user).post(
        f"projects/{project.pk}/members/", {"username": "oscar", "role": "viewer"}
    )
    assert_problem(response, 403)
    owner_id = project.created_by_id
    assert_problem(api(user).delete(f"projects/{project.pk}/members/{owner_id}/"), 403)


def test_only_an_owner_makes_admins(api, project, admin, owner, outsider):
    acquaint(owner, admin, outsider)  # both already work with oscar
    body = {"username": "oscar", "role": "admin"}
    assert_problem(api(admin).post(f"projects/{project.pk}/members/", body), 403)
    assert api(owner).post(f"projects/{project.pk}/members/", body).status_code == 201


def test_member_add_errors(api, project, admin):
    body = assert_problem(
        api(admin).post(f"projects/{project.pk}/members/", {"username": "ghost", "role": "boss"}),
        400,
    )
    assert set(body["errors"]) == {"role"}  # the shape is checked first
    body = assert_problem(
        api(admin).post(f"projects/{project.pk}/members/", {"username": "ghost", "role": "viewer"}),
        400,
    )
    assert body["invalid_params"] == [
        {
            "name": "username",
            "code": "not_found",
            "reason": "No user you can add has this username.",
        }
    ]


def test_last_owner_cannot_leave(api, project, owner):
    body = assert_problem(api(owner).delete(f"projects/{project.pk}/members/{owner.pk}/"), 400)
    assert body["invalid_params"][0]["code"] == "last_owner"


def test_activity_is_cursor_paginated_newest_first(api, project, owner, viewer):
    for n in range(5):
        make_task(project, owner, title=f"T{n}")
    client = api(viewer)
    first = client.get(f"projects/{project.pk}/activity/", {"page_size": 4}).json()
    assert set(first) == {"next", "previous", "results"}
    ids = [event["id"] for event in first["results"]]
    assert ids == sorted(ids, reverse=True)
    assert first["results"][0]["type"] == "task.created"
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert second["next"] is None
    all_ids = ids + [event["id"] for event in second["results"]]
    assert len(all_ids) == 6 == len(set(all_ids))  # member.added + 5 task.created
    back = client.get(second["previous"]).json()
    assert [event["id"] for event in back["results"]] == ids


def test_activity_v2_nests_the_actor(api, project, owner):
    event = api(owner, version="v2").get(f"projects/{project.pk}/activity/").json()["results"][0]
    assert event["actor"]["username"] == "olivia"
    assert event["node_id"] == to_global_id("Event", event["id"])
