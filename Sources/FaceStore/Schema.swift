import GRDB

/// Every schema change, in order. Add new migrations at the end; never edit a shipped one.
enum Schema {
    /// Every migration's identifier, oldest first.
    static let versions: [String] = migrator.migrations
    /// Migrations a reader does without: they add only what faced's own writing uses.
    /// (v6's and v8's columns read as absent: a reader shows an older gallery's events as they were; v7 only speeds queries up.)
    static let readerOptional: Set<String> = ["v5: spooled event keys", "v6: closest person and frames of events",
                                              "v7: indexes for asking the log",
                                              "v8: liveness of people and events"]
    /// "v5": how messages name this build's schema.
    static var currentVersion: String { "v\(versions.count)" }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: people and templates") { db in
            try db.create(table: "people") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique().collate(.nocase)
                t.column("display_name", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("enabled", .boolean).notNull().defaults(to: true)
            }
            try db.create(table: "templates") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("person_id", .integer).notNull().indexed().references("people", onDelete: .cascade)
                t.column("vector", .blob).notNull().check { length($0) == FaceTemplate.dimension * 4 }
                t.column("source_name", .text).notNull()
                t.column("source_sha256", .text).notNull()
                t.column("box_x", .integer).notNull()
                t.column("box_y", .integer).notNull()
                t.column("box_width", .integer).notNull()
                t.column("box_height", .integer).notNull()
                t.column("detector_score", .double).notNull()
                t.column("sharpness", .double).notNull()
                t.column("brightness", .double).notNull()
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["person_id", "source_sha256"])
            }
            // One row counting gallery changes, so a reader learns cheaply that its snapshot is stale.
            try db.create(table: "gallery_state") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("generation", .integer).notNull()
            }
            try db.execute(sql: "INSERT INTO gallery_state (id, generation) VALUES (1, 0)")
            for table in ["people", "templates"] {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_\(op.lowercased())_bumps_generation AFTER \(op) ON \(table)
                        BEGIN UPDATE gallery_state SET generation = generation + 1 WHERE id = 1; END
                        """)
                }
            }
        }
        migrator.registerMigration("v2: hash-chained events") { db in
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("kind", .text).notNull()
                t.column("time", .text).notNull().indexed()
                t.column("camera", .text).notNull()
                t.column("track_id", .integer)
                t.column("decision", .text)
                t.column("reason", .text)
                t.column("person_id", .integer)
                t.column("person_name", .text)
                t.column("best_distance", .double)
                t.column("runner_up_name", .text)
                t.column("runner_up_distance", .double)
                t.column("margin", .double)
                t.column("frames_used", .integer)
                t.column("evidence", .text)
                t.column("latency_ms", .double)
                t.column("snapshot_path", .text)
                t.column("ref_event_id", .integer)
                t.column("detail", .text)
                t.column("prev_hash", .text).notNull()
                t.column("hash", .text).notNull().unique()
            }
        }
        migrator.registerMigration("v3: access rights") { db in
            try db.alter(table: "people") { t in
                t.add(column: "valid_from", .datetime)
                t.add(column: "valid_until", .datetime)
            }
            try db.create(table: "person_groups") { t in
                t.column("person_id", .integer).notNull().references("people", onDelete: .cascade)
                t.column("group_name", .text).notNull().collate(.nocase)
                t.primaryKey(["person_id", "group_name"])
            }
            // A weekly window ("mon-fri 07:00-19:00") for one person or for one group.
            try db.create(table: "schedules") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("person_id", .integer).references("people", onDelete: .cascade).indexed()
                t.column("group_name", .text).collate(.nocase).indexed()
                t.column("spec", .text).notNull()
                t.check(sql: "(person_id IS NULL) <> (group_name IS NULL)")
            }
            for table in ["person_groups", "schedules"] {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_\(op.lowercased())_bumps_generation AFTER \(op) ON \(table)
                        BEGIN UPDATE gallery_state SET generation = generation + 1 WHERE id = 1; END
                        """)
                }
            }
        }
        migrator.registerMigration("v4: quality figures and per-person level") { db in
            try db.alter(table: "templates") { t in
                t.add(column: "face_size", .integer)
                t.add(column: "contrast", .double)
                t.add(column: "yaw", .double)
                t.add(column: "roll", .double)
            }
            // Only ever stricter than the door's level: see Policy.summarise.
            try db.alter(table: "people") { t in t.add(column: "security_level", .text) }
        }
        migrator.registerMigration("v5: spooled event keys") { db in
            // Each spooled event's key with the id it got in this chain: a replay that stopped
            // between its commit and the spool's truncation does not log an event twice, and a
            // door action's row finds its grant's id even in a later replay.
            try db.create(table: "spool_keys") { t in
                t.primaryKey("key", .text)
                t.column("event_id", .integer).notNull()
            }
        }
        migrator.registerMigration("v6: closest person and frames of events") { db in
            try db.alter(table: "events") { t in
                // An unknown visitor's closest enrolled person, once only in the detail text.
                t.add(column: "closest_name", .text)
                // The evidence window frame by frame (FrameEvidence.json).
                t.add(column: "frames", .text)
            }
        }
        migrator.registerMigration("v7: indexes for asking the log") { db in
            // `log --person`, `log summary --person` and `--camera` read one person's or one
            // door's rows over a time range, without scanning a year of a busy door's log.
            try db.execute(sql: "CREATE INDEX events_person_time ON events(person_name COLLATE NOCASE, time)")
            try db.execute(sql: "CREATE INDEX events_camera_time ON events(camera, time)")
        }
        migrator.registerMigration("v8: liveness of people and events") { db in
            // A person's own liveness mode ("motion"), stricter than the door's; nil: the door's.
            try db.alter(table: "people") { t in t.add(column: "liveness", .text) }
            // What the face's surface showed against the liveness rule (LivenessEvidence.json).
            try db.alter(table: "events") { t in t.add(column: "liveness", .text) }
        }
        return migrator
    }
}
