-- One database and one owner role per service, for `docker compose up`.
-- The official postgres image runs every *.sql file in
-- /docker-entrypoint-initdb.d once, as the superuser, when its data volume
-- is empty (so after an edit here: `docker compose down -v`).
--
-- The passwords are development values, published in this repository:
-- use this file for a demo or a laptop, never for data that matters.
--
-- Each role owns its database and nothing else:
-- * Owning the database is what lets it run its own migrations. Since
--   PostgreSQL 15 the public schema is owned by pg_database_owner and only
--   that pseudo-role may CREATE in it (PUBLIC no longer may); the owner of
--   a database is a member of pg_database_owner inside it, so order_svc can
--   create tables in orders.public and nowhere else. (On PostgreSQL 14 and
--   older PUBLIC may still create in public; this file works there too.)
-- * CONNECT is revoked from PUBLIC, so one service cannot open another's
--   database even with its own password (the owner keeps CONNECT).
-- * No role is a superuser, nor may it create databases or roles.

CREATE ROLE order_svc     LOGIN PASSWORD 'order-dev-password'     NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE email_svc     LOGIN PASSWORD 'email-dev-password'     NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE sms_svc       LOGIN PASSWORD 'sms-dev-password'       NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE inventory_svc LOGIN PASSWORD 'inventory-dev-password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE gdpr_svc      LOGIN PASSWORD 'gdpr-dev-password'      NOSUPERUSER NOCREATEDB NOCREATEROLE;

CREATE DATABASE orders    OWNER order_svc;
CREATE DATABASE email     OWNER email_svc;
CREATE DATABASE sms       OWNER sms_svc;
CREATE DATABASE inventory OWNER inventory_svc;
CREATE DATABASE gdpr      OWNER gdpr_svc;

REVOKE CONNECT, TEMPORARY ON DATABASE orders, email, sms, inventory, gdpr FROM PUBLIC;
