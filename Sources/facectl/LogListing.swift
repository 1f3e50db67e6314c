import FaceStore

extension LogList {
    /// What `facectl log` prints without --follow, as one text for the pager: JSON, CSV with its header, or a line an event.
    func listing(_ events: [AuditEvent]) throws -> String {
        if json { return try jsonText(events.map(EventView.init)) + "\n" }
        let lines = csv ? [EventView.csvHeader] + events.map { EventView($0).csvRow } : events.map { EventView($0).line }
        return lines.map { $0 + "\n" }.joined()
    }
}
