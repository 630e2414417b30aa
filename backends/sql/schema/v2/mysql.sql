-- rehome schema migration from version 1 to 2 (mysql): storage media, sanitization records,
-- verifications and tool reports, and devices' IMEI. History: never edited once released (a
-- test pins its SHA-256); the next change is a new version.
-- MySQL commits DDL as it goes, so a run cut short is completed by running this again: every
-- statement is a no-op on what an earlier run did. It is plain MySQL 8 as well as MariaDB
-- (MySQL has no ADD COLUMN IF NOT EXISTS): the devices change is one ALTER TABLE, run only
-- while the imei_key column is missing. Existing devices get the implicit default of a NOT
-- NULL binary column, the empty text (no DEFAULT clause stays behind), and no IMEI key.
SET @rehome_v2_devices = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'devices' AND column_name = 'imei_key') = 0,
    'ALTER TABLE devices ADD COLUMN imei MEDIUMBLOB NOT NULL, ADD COLUMN imei_f MEDIUMBLOB NOT NULL, ADD COLUMN imei_key VARBINARY(1020), ADD UNIQUE KEY devices_imei_key_key (imei_key)',
    'DO 0');
PREPARE rehome_v2_devices FROM @rehome_v2_devices;
EXECUTE rehome_v2_devices;
DEALLOCATE PREPARE rehome_v2_devices;
CREATE TABLE IF NOT EXISTS media (
    id BIGINT NOT NULL PRIMARY KEY,
    device_id BINARY(16) NOT NULL,
    serial VARBINARY(1020) NOT NULL,
    serial_f MEDIUMBLOB NOT NULL,
    version BIGINT NOT NULL,
    data LONGBLOB NOT NULL,
    CONSTRAINT media_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id),
    UNIQUE KEY media_serial_key (serial),
    KEY media_device_id_idx (device_id, id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS reports (
    id VARBINARY(64) NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    data LONGBLOB NOT NULL
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS sanitizations (
    id BIGINT NOT NULL PRIMARY KEY,
    device_id BINARY(16) NOT NULL,
    medium_id BIGINT NOT NULL,
    performed_by BIGINT NOT NULL,
    report VARBINARY(64),
    version BIGINT NOT NULL,
    data LONGBLOB NOT NULL,
    CONSTRAINT sanitizations_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id),
    CONSTRAINT sanitizations_medium_id_fk FOREIGN KEY (medium_id) REFERENCES media (id),
    CONSTRAINT sanitizations_performed_by_fk FOREIGN KEY (performed_by) REFERENCES users (id),
    CONSTRAINT sanitizations_report_fk FOREIGN KEY (report) REFERENCES reports (id),
    KEY sanitizations_device_id_idx (device_id, id),
    KEY sanitizations_medium_id_idx (medium_id, id),
    KEY sanitizations_performed_by_idx (performed_by, id),
    KEY sanitizations_report_idx (report, id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS verifications (
    id BIGINT NOT NULL PRIMARY KEY,
    device_id BINARY(16) NOT NULL,
    verified_by BIGINT NOT NULL,
    version BIGINT NOT NULL,
    data LONGBLOB NOT NULL,
    CONSTRAINT verifications_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id),
    CONSTRAINT verifications_verified_by_fk FOREIGN KEY (verified_by) REFERENCES users (id),
    KEY verifications_device_id_idx (device_id, id),
    KEY verifications_verified_by_idx (verified_by, id)
) ENGINE=InnoDB;
INSERT IGNORE INTO rehome_ids (kind, value) VALUES (7, 0), (8, 0), (9, 0);
