-- FerretDB 1.24 on PostgreSQL turns an index on `field` into a btree on (_jsonb->'field'), but it
-- reads with `WHERE _jsonb->'field' @> value`, which a btree cannot answer: every lookup scans its
-- whole table. This event trigger gives each such index a GIN twin on the same expression, which
-- answers `@>` — so the indexes the services ask for (ensure_index, which real MongoDB uses as
-- they are) serve lookups here too. Only the development database changes; no service code
-- depends on it. The server runs with plan_cache_mode=force_custom_plan, because FerretDB passes
-- the field name as a parameter and only a plan made for the actual name can use the index.
-- Idempotent: run by scripts/backing-services.sh on every start, in FerretDB's database.

DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
END
$$;

CREATE OR REPLACE FUNCTION ticketing_gin_mirror() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  created record;
  definition text;
  field text;
  tbl regclass;
  index_name text;
BEGIN
  FOR created IN
    SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX'
  LOOP
    definition := pg_get_indexdef(created.objid);
    CONTINUE WHEN definition LIKE '% USING gin %';
    -- FerretDB's own catalogue is tiny and cached in memory.
    CONTINUE WHEN definition LIKE '%._ferretdb_%';
    -- The first key of FerretDB's index: USING btree (((_jsonb -> 'field'::text))
    field := substring(definition FROM $re$USING btree \(\(\(_jsonb -> '([^']+)'::text\)$re$);
    CONTINUE WHEN field IS NULL;
    SELECT indrelid::regclass, left(c.relname, 55) || '_gin'
      INTO tbl, index_name
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indexrelid = created.objid;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L))',
                   index_name, tbl, field);
  END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS ticketing_gin_mirror;
CREATE EVENT TRIGGER ticketing_gin_mirror ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION ticketing_gin_mirror();
