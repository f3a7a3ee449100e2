"""Writes known resources into an upstream freezer-api database with
upstream's own DB layer (Debian python3-freezer-api), for the import test.

usage: upstream_populate.py CONFIG_FILE  -> prints the ids as JSON
"""
import json
import sys

from oslo_config import cfg

from freezer_api.common import config
from freezer_api.db.sqlalchemy import api

CONF = cfg.CONF
config.register_db_drivers_opt()
try:
    CONF.register_opt(cfg.BoolOpt('enable_v1_api', default=False))
except cfg.DuplicateOptError:
    pass
CONF(args=['--config-file', sys.argv[1]], project='freezer-api')

P1, P2, U = 'proj1', 'proj2', 'user1'
api.add_client(U, {'client_id': 'proj1_node1', 'hostname': 'node1', 'description': 'first node'}, project_id=P1)
act = api.add_action(U, {'freezer_action': {'action': 'backup', 'mode': 'fs', 'path_to_backup': '/etc', 'backup_name': 'etc', 'container': 'c1', 'storage': 'swift'}, 'max_retries': 3, 'max_retries_interval': 7}, project_id=P1)
job = api.add_job(U, {'client_id': 'proj1_node1', 'description': 'nightly', 'job_schedule': {'schedule_interval': '1 days', 'status': 'scheduled', 'event': '', 'result': ''},
                      'job_actions': [{'action_id': act, 'freezer_action': {'action': 'backup', 'mode': 'fs', 'path_to_backup': '/etc', 'backup_name': 'etc', 'container': 'c1', 'storage': 'swift'}},
                                      {'freezer_action': {'action': 'info'}}]}, project_id=P1)
sess = api.add_session(U, {'description': 'sess', 'schedule': {'schedule_interval': '2 hours'}, 'hold_off': 30}, project_id=P1)
bk = api.add_backup(U, 'user-name', {'container': 'c1', 'hostname': 'node1', 'backup_name': 'etc', 'time_stamp': 1790000000, 'level': 0, 'job_id': job}, project_id=P1)
other = api.add_backup(U, 'user-name', {'container': 'c2', 'hostname': 'n2', 'backup_name': 'other'}, project_id=P2)
gone = api.add_backup(U, 'user-name', {'container': 'c3', 'hostname': 'n3', 'backup_name': 'gone'}, project_id=P1)
api.delete_backup(U, gone, project_id=P1)
print(json.dumps({'action': act, 'job': job, 'session': sess, 'backup': bk, 'other_backup': other, 'deleted_backup': gone}))
