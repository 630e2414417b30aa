-- rehome schema migration from version 1 to 2 (sqlite): storage media, sanitization records,
-- verifications and tool reports, and devices' IMEI. History: never edited once released (a
-- test pins its SHA-256); the next change is a new version. Runs in one transaction.
-- Existing devices get an empty IMEI (text is stored as bytes: x'' is the empty text) and no
-- IMEI key. SQLite cannot add a NOT NULL column without a default, so these two keep
-- DEFAULT x'' (the store always writes every column; the default is never used again).
ALTER TABLE devices ADD COLUMN imei BLOB NOT NULL DEFAULT x'';
ALTER TABLE devices ADD COLUMN imei_f BLOB NOT NULL DEFAULT x'';
ALTER TABLE devices ADD COLUMN imei_key BLOB;
CREATE UNIQUE INDEX devices_imei_key_key ON devices (imei_key);
CREATE TABLE media (
    id INTEGER NOT NULL PRIMARY KEY,
    device_id BLOB NOT NULL,
    serial BLOB NOT NULL,
    serial_f BLOB NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT media_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id)
) STRICT;
CREATE UNIQUE INDEX media_serial_key ON media (serial);
CREATE INDEX media_device_id_idx ON media (device_id, id);
CREATE TABLE reports (
    id BLOB NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
) STRICT;
CREATE TABLE sanitizations (
    id INTEGER NOT NULL PRIMARY KEY,
    device_id BLOB NOT NULL,
    medium_id INTEGER NOT NULL,
    performed_by INTEGER NOT NULL,
    report BLOB,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT sanitizations_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id),
    CONSTRAINT sanitizations_medium_id_fk FOREIGN KEY (medium_id) REFERENCES media (id),
    CONSTRAINT sanitizations_performed_by_fk FOREIGN KEY (performed_by) REFERENCES users (id),
    CONSTRAINT sanitizations_report_fk FOREIGN KEY (report) REFERENCES reports (id)
) STRICT;
CREATE INDEX sanitizations_device_id_idx ON sanitizations (device_id, id);
CREATE INDEX sanitizations_medium_id_idx ON sanitizations (medium_id, id);
CREATE INDEX sanitizations_performed_by_idx ON sanitizations (performed_by, id);
CREATE INDEX sanitizations_report_idx ON sanitizations (report, id);
CREATE TABLE verifications (
    id INTEGER NOT NULL PRIMARY KEY,
    device_id BLOB NOT NULL,
    verified_by INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT verifications_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id),
    CONSTRAINT verifications_verified_by_fk FOREIGN KEY (verified_by) REFERENCES users (id)
) STRICT;
CREATE INDEX verifications_device_id_idx ON verifications (device_id, id);
CREATE INDEX verifications_verified_by_idx ON verifications (verified_by, id);
INSERT INTO rehome_ids (kind, value) VALUES (7, 0), (8, 0), (9, 0);
