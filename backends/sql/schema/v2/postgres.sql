-- rehome schema migration from version 1 to 2 (postgres): storage media, sanitization
-- records, verifications and tool reports, and devices' IMEI. History: never edited once
-- released (a test pins its SHA-256); the next change is a new version. Runs in one
-- transaction.
-- Existing devices get an empty IMEI (text is stored as bytes: '\x' is the empty text) and no
-- IMEI key; the defaults only fill the existing rows and are dropped again.
ALTER TABLE devices
    ADD COLUMN imei BYTEA NOT NULL DEFAULT '\x'::bytea,
    ADD COLUMN imei_f BYTEA NOT NULL DEFAULT '\x'::bytea,
    ADD COLUMN imei_key BYTEA;
ALTER TABLE devices ALTER COLUMN imei DROP DEFAULT, ALTER COLUMN imei_f DROP DEFAULT;
CREATE UNIQUE INDEX devices_imei_key_key ON devices (imei_key NULLS FIRST);
CREATE TABLE media (
    id BIGINT NOT NULL PRIMARY KEY,
    device_id BYTEA NOT NULL,
    serial BYTEA NOT NULL,
    serial_f BYTEA NOT NULL,
    version BIGINT NOT NULL,
    data BYTEA NOT NULL,
    CONSTRAINT media_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id)
);
CREATE UNIQUE INDEX media_serial_key ON media (serial);
CREATE INDEX media_device_id_idx ON media (device_id, id);
CREATE TABLE reports (
    id BYTEA NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE TABLE sanitizations (
    id BIGINT NOT NULL PRIMARY KEY,
    device_id BYTEA NOT NULL,
    medium_id BIGINT NOT NULL,
    performed_by BIGINT NOT NULL,
    report BYTEA,
    version BIGINT NOT NULL,
    data BYTEA NOT NULL,
    CONSTRAINT sanitizations_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id),
    CONSTRAINT sanitizations_medium_id_fk FOREIGN KEY (medium_id) REFERENCES media (id),
    CONSTRAINT sanitizations_performed_by_fk FOREIGN KEY (performed_by) REFERENCES users (id),
    CONSTRAINT sanitizations_report_fk FOREIGN KEY (report) REFERENCES reports (id)
);
CREATE INDEX sanitizations_device_id_idx ON sanitizations (device_id, id);
CREATE INDEX sanitizations_medium_id_idx ON sanitizations (medium_id, id);
CREATE INDEX sanitizations_performed_by_idx ON sanitizations (performed_by, id);
CREATE INDEX sanitizations_report_idx ON sanitizations (report NULLS FIRST, id);
CREATE TABLE verifications (
    id BIGINT NOT NULL PRIMARY KEY,
    device_id BYTEA NOT NULL,
    verified_by BIGINT NOT NULL,
    version BIGINT NOT NULL,
    data BYTEA NOT NULL,
    CONSTRAINT verifications_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id),
    CONSTRAINT verifications_verified_by_fk FOREIGN KEY (verified_by) REFERENCES users (id)
);
CREATE INDEX verifications_device_id_idx ON verifications (device_id, id);
CREATE INDEX verifications_verified_by_idx ON verifications (verified_by, id);
INSERT INTO rehome_ids (kind, value) VALUES (7, 0), (8, 0), (9, 0);
