"""The Python used-by line, run from an installed wheel in a fresh venv (tests/install/run.sh).

Usage: python used_by.py VERSION SHOP_DB MIGRATIONS_DIR
"""
import pathlib
import sys
import tempfile

import dbconsultant

version, shop_db, migrations = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
assert dbconsultant.__version__ == version, (dbconsultant.__version__, version)
assert "site-packages" in dbconsultant.__file__, f"not the installed package: {dbconsultant.__file__}"
with tempfile.TemporaryDirectory() as store:
    db_agent = dbconsultant.DatabaseConsultant(store=f"{store}/runs.db")
    safe = db_agent.validate_schema(f"sqlite://{shop_db}", str(migrations / "001_index_order_status.sql"))
    unsafe = db_agent.validate_schema(f"sqlite://{shop_db}", str(migrations / "002_unique_customer_email.sql"))
    assert safe.status == "passed", safe.summary
    assert unsafe.status == "failed" and any(f.rule == "migration-fails" for f in unsafe.findings), unsafe.summary
    report = db_agent.get_test_report(unsafe.test_run_id)
    assert report.test_run_id == unsafe.test_run_id
print(f"python: dbconsultant {dbconsultant.__version__} from {dbconsultant.__file__}: passed, failed as expected")
