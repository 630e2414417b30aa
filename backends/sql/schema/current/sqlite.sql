-- rehome schema version 2 (sqlite), in full: what the migrations in schema/v*/ add up to.
-- Generated from backends/sql/src/schema.rs (REHOME_BLESS=1 cargo test -p rehome-sql ddl); for reading, never run by the store.
CREATE TABLE rehome_ids (
    kind INTEGER NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO rehome_ids (kind, value) VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0), (8, 0), (9, 0);
CREATE TABLE roles (
    id INTEGER NOT NULL PRIMARY KEY,
    name BLOB NOT NULL,
    name_f BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX roles_name_key ON roles (name);
CREATE INDEX roles_created_at_idx ON roles (created_at, id);
CREATE INDEX roles_updated_at_idx ON roles (updated_at, id);
CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY,
    username BLOB NOT NULL,
    username_f BLOB NOT NULL,
    email BLOB NOT NULL,
    email_f BLOB NOT NULL,
    role_name BLOB,
    role_name_f BLOB,
    first_name BLOB NOT NULL,
    first_name_f BLOB NOT NULL,
    last_name BLOB NOT NULL,
    last_name_f BLOB NOT NULL,
    is_active INTEGER NOT NULL,
    is_superuser INTEGER NOT NULL,
    date_joined INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT users_role_name_fk FOREIGN KEY (role_name) REFERENCES roles (name)
) STRICT;
CREATE UNIQUE INDEX users_username_f_key ON users (username_f);
CREATE UNIQUE INDEX users_email_f_key ON users (email_f);
CREATE INDEX users_username_idx ON users (username, id);
CREATE INDEX users_email_idx ON users (email, id);
CREATE INDEX users_role_name_idx ON users (role_name, id);
CREATE INDEX users_role_name_username_idx ON users (role_name, username, id);
CREATE INDEX users_first_name_idx ON users (first_name, id);
CREATE INDEX users_first_name_username_idx ON users (first_name, username, id);
CREATE INDEX users_last_name_idx ON users (last_name, id);
CREATE INDEX users_last_name_username_idx ON users (last_name, username, id);
CREATE INDEX users_is_active_idx ON users (is_active, id);
CREATE INDEX users_is_active_username_idx ON users (is_active, username, id);
CREATE INDEX users_date_joined_idx ON users (date_joined, id);
CREATE INDEX users_updated_at_idx ON users (updated_at, id);
CREATE TABLE locations (
    id INTEGER NOT NULL PRIMARY KEY,
    name BLOB NOT NULL,
    name_f BLOB NOT NULL,
    location_type BLOB NOT NULL,
    location_type_f BLOB NOT NULL,
    address BLOB NOT NULL,
    address_f BLOB NOT NULL,
    country BLOB NOT NULL,
    country_f BLOB NOT NULL,
    city BLOB NOT NULL,
    city_f BLOB NOT NULL,
    postal_code BLOB NOT NULL,
    postal_code_f BLOB NOT NULL,
    phone BLOB NOT NULL,
    phone_f BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    address_key BLOB NOT NULL,
    phone_key BLOB,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX locations_address_key_key ON locations (address_key);
CREATE UNIQUE INDEX locations_phone_key_key ON locations (phone_key);
CREATE INDEX locations_name_idx ON locations (name, id);
CREATE INDEX locations_location_type_idx ON locations (location_type, id);
CREATE INDEX locations_location_type_name_idx ON locations (location_type, name, id);
CREATE INDEX locations_country_idx ON locations (country, id);
CREATE INDEX locations_country_name_idx ON locations (country, name, id);
CREATE INDEX locations_city_idx ON locations (city, id);
CREATE INDEX locations_city_name_idx ON locations (city, name, id);
CREATE INDEX locations_postal_code_idx ON locations (postal_code, id);
CREATE INDEX locations_postal_code_name_idx ON locations (postal_code, name, id);
CREATE INDEX locations_created_at_idx ON locations (created_at, id);
CREATE INDEX locations_updated_at_idx ON locations (updated_at, id);
CREATE TABLE donors (
    id INTEGER NOT NULL PRIMARY KEY,
    name BLOB NOT NULL,
    name_f BLOB NOT NULL,
    contact_info BLOB NOT NULL,
    contact_info_f BLOB NOT NULL,
    address BLOB NOT NULL,
    address_f BLOB NOT NULL,
    email BLOB NOT NULL,
    email_f BLOB NOT NULL,
    phone BLOB NOT NULL,
    phone_f BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX donors_email_key ON donors (email);
CREATE INDEX donors_name_idx ON donors (name, id);
CREATE INDEX donors_phone_idx ON donors (phone, id);
CREATE INDEX donors_phone_name_idx ON donors (phone, name, id);
CREATE INDEX donors_created_at_idx ON donors (created_at, id);
CREATE INDEX donors_updated_at_idx ON donors (updated_at, id);
CREATE TABLE shipments (
    id INTEGER NOT NULL PRIMARY KEY,
    destination_id INTEGER,
    arrived INTEGER NOT NULL,
    date_shipped INTEGER NOT NULL,
    date_delivered INTEGER,
    tracking_identifier BLOB NOT NULL,
    tracking_identifier_f BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT shipments_destination_id_fk FOREIGN KEY (destination_id) REFERENCES locations (id)
) STRICT;
CREATE INDEX shipments_destination_id_idx ON shipments (destination_id, id);
CREATE INDEX shipments_destination_id_date_shipped_idx ON shipments (destination_id, date_shipped, id);
CREATE INDEX shipments_arrived_idx ON shipments (arrived, id);
CREATE INDEX shipments_arrived_date_shipped_idx ON shipments (arrived, date_shipped, id);
CREATE INDEX shipments_date_shipped_idx ON shipments (date_shipped, id);
CREATE INDEX shipments_date_delivered_idx ON shipments (date_delivered, id);
CREATE INDEX shipments_date_delivered_date_shipped_idx ON shipments (date_delivered, date_shipped, id);
CREATE INDEX shipments_tracking_identifier_idx ON shipments (tracking_identifier, id);
CREATE INDEX shipments_tracking_identifier_date_shipped_idx ON shipments (tracking_identifier, date_shipped, id);
CREATE INDEX shipments_created_at_idx ON shipments (created_at, id);
CREATE INDEX shipments_updated_at_idx ON shipments (updated_at, id);
CREATE TABLE devices (
    id BLOB NOT NULL PRIMARY KEY,
    device_type BLOB NOT NULL,
    device_type_f BLOB NOT NULL,
    make BLOB NOT NULL,
    make_f BLOB NOT NULL,
    model BLOB NOT NULL,
    model_f BLOB NOT NULL,
    serial_number BLOB NOT NULL,
    serial_number_f BLOB NOT NULL,
    mac_id BLOB NOT NULL,
    mac_id_f BLOB NOT NULL,
    imei BLOB NOT NULL,
    imei_f BLOB NOT NULL,
    status BLOB NOT NULL,
    year_of_manufacture INTEGER,
    operating_system BLOB NOT NULL,
    operating_system_f BLOB NOT NULL,
    physical_condition BLOB NOT NULL,
    physical_condition_f BLOB NOT NULL,
    donor_id INTEGER,
    start_location_id INTEGER,
    end_location_id INTEGER,
    date_received INTEGER,
    notes BLOB NOT NULL,
    notes_f BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    mac_key BLOB,
    imei_key BLOB,
    received_by INTEGER,
    created_by INTEGER,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT devices_donor_id_fk FOREIGN KEY (donor_id) REFERENCES donors (id),
    CONSTRAINT devices_start_location_id_fk FOREIGN KEY (start_location_id) REFERENCES locations (id),
    CONSTRAINT devices_end_location_id_fk FOREIGN KEY (end_location_id) REFERENCES locations (id),
    CONSTRAINT devices_received_by_fk FOREIGN KEY (received_by) REFERENCES users (id),
    CONSTRAINT devices_created_by_fk FOREIGN KEY (created_by) REFERENCES users (id)
) STRICT;
CREATE UNIQUE INDEX devices_serial_number_key ON devices (serial_number);
CREATE UNIQUE INDEX devices_mac_key_key ON devices (mac_key);
CREATE UNIQUE INDEX devices_imei_key_key ON devices (imei_key);
CREATE INDEX devices_device_type_idx ON devices (device_type, id);
CREATE INDEX devices_make_idx ON devices (make, id);
CREATE INDEX devices_make_device_type_idx ON devices (make, device_type, id);
CREATE INDEX devices_model_idx ON devices (model, id);
CREATE INDEX devices_model_device_type_idx ON devices (model, device_type, id);
CREATE INDEX devices_mac_id_idx ON devices (mac_id, id);
CREATE INDEX devices_status_idx ON devices (status, id);
CREATE INDEX devices_status_device_type_idx ON devices (status, device_type, id);
CREATE INDEX devices_year_of_manufacture_idx ON devices (year_of_manufacture, id);
CREATE INDEX devices_year_of_manufacture_device_type_idx ON devices (year_of_manufacture, device_type, id);
CREATE INDEX devices_operating_system_idx ON devices (operating_system, id);
CREATE INDEX devices_operating_system_device_type_idx ON devices (operating_system, device_type, id);
CREATE INDEX devices_physical_condition_idx ON devices (physical_condition, id);
CREATE INDEX devices_physical_condition_device_type_idx ON devices (physical_condition, device_type, id);
CREATE INDEX devices_donor_id_idx ON devices (donor_id, id);
CREATE INDEX devices_donor_id_device_type_idx ON devices (donor_id, device_type, id);
CREATE INDEX devices_start_location_id_idx ON devices (start_location_id, id);
CREATE INDEX devices_start_location_id_device_type_idx ON devices (start_location_id, device_type, id);
CREATE INDEX devices_end_location_id_idx ON devices (end_location_id, id);
CREATE INDEX devices_end_location_id_device_type_idx ON devices (end_location_id, device_type, id);
CREATE INDEX devices_date_received_idx ON devices (date_received, id);
CREATE INDEX devices_date_received_device_type_idx ON devices (date_received, device_type, id);
CREATE INDEX devices_created_at_idx ON devices (created_at, id);
CREATE INDEX devices_updated_at_idx ON devices (updated_at, id);
CREATE INDEX devices_received_by_idx ON devices (received_by, id);
CREATE INDEX devices_created_by_idx ON devices (created_by, id);
CREATE TABLE audit_events (
    id INTEGER NOT NULL PRIMARY KEY,
    happened_at INTEGER NOT NULL,
    actor_id INTEGER,
    action BLOB NOT NULL,
    action_f BLOB NOT NULL,
    object_type BLOB NOT NULL,
    object_type_f BLOB NOT NULL,
    object_id BLOB NOT NULL,
    object_id_f BLOB NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
) STRICT;
CREATE INDEX audit_events_actor_id_idx ON audit_events (actor_id, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
CREATE INDEX audit_events_object_type_idx ON audit_events (object_type, id);
CREATE INDEX audit_events_object_id_idx ON audit_events (object_id, id);
CREATE INDEX audit_events_happened_at_idx ON audit_events (happened_at, id);
CREATE TABLE credentials (
    id INTEGER NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT credentials_id_fk FOREIGN KEY (id) REFERENCES users (id)
) STRICT;
CREATE TABLE sessions (
    id BLOB NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT sessions_user_id_fk FOREIGN KEY (user_id) REFERENCES users (id)
) STRICT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id, id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at, id);
CREATE TABLE mfa_challenges (
    id BLOB NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL,
    CONSTRAINT mfa_challenges_user_id_fk FOREIGN KEY (user_id) REFERENCES users (id)
) STRICT;
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id, id);
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at, id);
CREATE TABLE throttles (
    id BLOB NOT NULL PRIMARY KEY,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
) STRICT;
CREATE INDEX throttles_updated_at_idx ON throttles (updated_at, id);
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
CREATE TABLE device_shipments (
    device_id BLOB NOT NULL,
    shipment_id INTEGER NOT NULL,
    PRIMARY KEY (device_id, shipment_id),
    CONSTRAINT device_shipments_device_id_fk FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE,
    CONSTRAINT device_shipments_shipment_id_fk FOREIGN KEY (shipment_id) REFERENCES shipments (id)
) STRICT;
CREATE INDEX device_shipments_shipment_idx ON device_shipments (shipment_id, device_id);
