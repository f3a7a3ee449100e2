"""Drive a freezer-api with the Horizon Freezer panel's own API layer.

disaster_recovery.api.api (Debian python3-freezer-web-ui) is what the
panel's views and its Angular REST endpoints call; it turns the panel's
form fields into API documents and the API's answers into the objects the
tables show. This script calls it the way the views do, with a real
Keystone token, against the API at FREEZER_API_URL, and checks what comes
back. The views and templates themselves are not rendered.

Environment: FREEZER_API_URL, OS_AUTH_URL, OS_USERNAME, OS_PASSWORD,
OS_PROJECT_NAME (Default domains). Prints "panel: ok" at the end; any
failed check raises.
"""
import os
import sys
import warnings

warnings.simplefilter("ignore")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openstack_dashboard.settings")

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402

# What an operator's local_settings.py sets for this cloud.
settings.FREEZER_API_URL = os.environ["FREEZER_API_URL"]
settings.OPENSTACK_KEYSTONE_URL = os.environ["OS_AUTH_URL"]

from keystoneauth1 import session as ks_session  # noqa: E402
from keystoneauth1.identity import v3  # noqa: E402

from disaster_recovery.api import api  # noqa: E402


def check(cond, what, got=None):
    if not cond:
        raise SystemExit("panel check failed: %s (got %r)" % (what, got))


class Obj(object):
    pass


auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"],
                   username=os.environ["OS_USERNAME"],
                   password=os.environ["OS_PASSWORD"],
                   project_name=os.environ["OS_PROJECT_NAME"],
                   user_domain_name="Default", project_domain_name="Default")
sess = ks_session.Session(auth=auth)
request = Obj()
request.user = Obj()
request.user.token = Obj()
request.user.token.id = sess.get_token()
request.user.project_id = sess.get_project_id()
request.user.domain_name = "Default"
request.user.service_catalog = []
tag = sys.argv[1]

# A node registers itself (the scheduler does; the panel only lists).
client_id = "%s_%s" % (request.user.project_id, tag)
api.client(request).clients.create(
    {"client_id": client_id, "hostname": tag + "-host",
     "description": "panel test"})
clients = api.Client(request).list()
mine = [c for c in clients if c.id == client_id]
check(len(mine) == 1 and mine[0].hostname == tag + "-host" and mine[0].uuid,
      "Clients table row", [vars(c) for c in clients])
found = api.Client(request).list(search=client_id)
check([c.id for c in found] == [client_id], "client search", [c.id for c in found])
check(api.Client(request).get(client_id).hostname == tag + "-host",
      "client detail")

# Actions: the "Create Action" workflow posts its flat form fields.
action_id = api.Action(request).create({
    "action_id": "", "action": "backup", "backup_name": tag + " nightly",
    "path_to_backup": "/etc", "storage": "swift", "container": "c-" + tag,
    "mode": "fs", "max_retries": 3, "max_retries_interval": 5,
    "mandatory": False})
check(len(action_id) == 32, "action id", action_id)
rows = [a for a in api.Action(request).list() if a.action_id == action_id]
check(len(rows) == 1 and rows[0].backup_name == tag + "_nightly"
      and rows[0].path_to_backup == "/etc" and rows[0].storage == "swift"
      and rows[0].mode == "fs", "Actions table row", [vars(a) for a in rows])
detail = api.Action(request).get(action_id, json=True)
check(detail["max_retries"] == 3 and detail["max_retries_interval"] == 5,
      "action retries", detail)
api.Action(request).update({"action": "backup", "backup_name": tag + "_nightly",
                            "path_to_backup": "/srv", "storage": "swift",
                            "container": "c-" + tag, "max_retries": 4},
                           action_id)
detail = api.Action(request).get(action_id, json=True)
check(detail["freezer_action"]["path_to_backup"] == "/srv"
      and detail["max_retries"] == 4, "action update", detail)

# Jobs: the "Create Job" workflow, one job per selected client, stopped.
api.Job(request).create({
    "actions": action_id + "===", "clients": [client_id],
    "description": tag + " job", "schedule_interval": "1 days",
    "schedule_start_date": None, "schedule_end_date": None})
jobs = [j for j in api.Job(request).list() if j.description == tag + " job"]
# The table shows the host part of a "<project>_<host>" client id.
check(len(jobs) == 1 and jobs[0].client_id == tag, "Jobs table row",
      [vars(j) for j in jobs])
job_id = jobs[0].id
check(api.Job(request).get(job_id).event == "stop",
      "a new job is stopped", api.Job(request).get(job_id, json=True))
acts = api.Job(request).actions(job_id)
check([a.action_id for a in acts] == [action_id]
      and acts[0].backup_name == tag + "_nightly", "job actions",
      [vars(a) for a in acts])
check([j.id for j in api.Job(request).list(search=tag + " job")] == [job_id],
      "job search")
api.Job(request).start(job_id)
check(api.Job(request).get(job_id).event == "start", "job start")
api.Job(request).stop(job_id)
# "Edit Job" posts the description and schedule fields.
api.Job(request).update(job_id, {
    "job_id": job_id, "description": tag + " job edited",
    "schedule_interval": "2 days", "schedule_start_date": "",
    "schedule_end_date": ""})
edited = api.Job(request).get(job_id, json=True)
check(edited["description"] == tag + " job edited"
      and edited["job_schedule"].get("schedule_interval") == "2 days"
      and [a["action_id"] for a in edited["job_actions"]] == [action_id],
      "job edit", edited)
api.Job(request).clone(job_id)
clones = [j for j in api.Job(request).list(json=True)
          if j["description"] == tag + " job edited_clone"]
check(len(clones) == 1 and clones[0]["job_schedule"].get("event") == "stop",
      "job clone", clones)
api.Job(request).delete_action(action_id + "===" + job_id)
check(api.Job(request).actions(job_id, api=True) == [],
      "action removed from the job", api.Job(request).get(job_id, json=True))
api.Job(request).update_actions(job_id, action_id + "===")
check([a["action_id"] for a in api.Job(request).actions(job_id, api=True)]
      == [action_id], "actions put back")

# Sessions.
session_id = api.Session(request).create({
    "description": tag + " session", "schedule_interval": "6 hours",
    "schedule_start_date": None, "schedule_end_date": None})
rows = [s for s in api.Session(request).list() if s.session_id == session_id]
check(len(rows) == 1 and rows[0].description == tag + " session"
      and rows[0].schedule_interval == "6 hours", "Sessions table row",
      [vars(s) for s in rows])
api.Session(request).add_job(session_id, job_id)
sess_doc = api.Session(request).get(session_id, json=True)
check(job_id in sess_doc["jobs"], "job in session", sess_doc)
api.Session(request).update({"description": tag + " session edited",
                             "schedule_interval": "12 hours"}, session_id)
check(api.Session(request).get(session_id).description
      == tag + " session edited", "session edit")
api.Session(request).remove_job(session_id, job_id)
check(job_id not in api.Session(request).get(session_id, json=True)["jobs"],
      "job removed from session")
api.Session(request).delete(session_id)

# Backups: an agent's record, listed, found by id and restored from.
backup_id = api.client(request).backups.create({
    "action": "backup", "backup_name": tag + "_nightly", "container": "c-" + tag,
    "hostname": tag + "-host", "path_to_backup": "/srv", "level": 0,
    "curr_backup_level": 0, "time_stamp": 1767225600, "encrypted": True,
    "storage": "swift", "mode": "fs", "backup_media": "fs", "client_id": client_id})
rows = [b for b in api.Backup(request).list() if b.backup_id == backup_id]
check(len(rows) == 1 and rows[0].backup_name == tag + "_nightly"
      and rows[0].hostname == tag + "-host" and rows[0].level == 0
      and rows[0].encrypted is True and rows[0].container == "c-" + tag,
      "Backups table row", [vars(b) for b in rows])
b = api.Backup(request).get(backup_id)
check(b.backup_id == backup_id and b.path_to_backup == "/srv",
      "backup detail (a search by backup_id)", vars(b))
check([x.backup_id for x in api.Backup(request).list(search=tag + "_nightly")]
      == [backup_id], "backup search")
api.Backup(request).restore({"backup_id": backup_id, "client": client_id,
                             "path": "/tmp/" + tag})
restores = [j for j in api.Job(request).list(json=True)
            if j["description"] == "Restore %s_nightly for %s" % (tag, client_id)]
check(len(restores) == 1
      and restores[0]["job_schedule"].get("event") == "start"
      and restores[0]["job_actions"][0]["freezer_action"]["restore_abs_path"]
      == "/tmp/" + tag, "restore job", restores)
api.Backup(request).delete(backup_id)
check(not [x for x in api.Backup(request).list() if x.backup_id == backup_id],
      "backup deleted")

# Clean up the way the panel's delete buttons do.
for j in api.Job(request).list(json=True):
    if j.get("client_id") == client_id:
        api.Job(request).delete(j["job_id"])
api.Action(request).delete(action_id)
api.Client(request).delete(client_id)
check(not [c for c in api.Client(request).list() if c.id == client_id],
      "client deleted")
print("panel: ok")
