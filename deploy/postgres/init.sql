-- Runs once, when the PostgreSQL data directory is first initialised
-- (docker-entrypoint-initdb.d). One role for the application and one database
-- per service: services never share tables.
CREATE ROLE academy WITH LOGIN PASSWORD 'academy';

CREATE DATABASE catalog OWNER academy;
CREATE DATABASE booking OWNER academy;
CREATE DATABASE assessment OWNER academy;
CREATE DATABASE billing OWNER academy;
CREATE DATABASE notify OWNER academy;
