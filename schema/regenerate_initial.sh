#!/usr/bin/env bash
# Regenerate 0001 from the models (only while nothing has been released on top of it).
set -euo pipefail
cd "$(dirname "$0")/.."
mv schema/migrations/versions/0002_number_series.py /tmp/0002.py
rm -f schema/migrations/versions/0001_*.py /tmp/gen.db
.venv/bin/python -c "
from alembic import command
from docpost.schema.migrate import alembic_config
command.revision(alembic_config('sqlite:////tmp/gen.db'), message='initial schema', autogenerate=True, rev_id='0001')
" >/dev/null
mv /tmp/0002.py schema/migrations/versions/0002_number_series.py
