import Foundation
public import GridLedgerCore
public import MeterPolling

/// Renders readings for people (a table, one column per poll) and for machines (JSON).
public enum ReadingPresentation {
    /// Rows are quantities, columns are polls; a value missing from a poll shows as `-`.
    public static func table(_ readings: [MeterReading]) -> String {
        let quantities = Set(readings.flatMap { $0.measurements.map(\.quantity) }).sorted()
        var rows: [[String]] = [["quantity", "OBIS", "unit"] + readings.indices.map { "poll \($0 + 1)" }]
        rows.append(["time (UTC)", "", ""] + readings.map { isoTime($0.captureTimeMillis) })
        rows.append(["status", "", ""] + readings.map(\.status.rawValue))
        for quantity in quantities {
            rows.append([quantity.rawValue, quantity.obis ?? "", quantity.unit.rawValue] + readings.map { $0[quantity]?.description ?? "-" })
        }
        var text = render(rows, rightAligned: 3)
        let problems = readings.enumerated().flatMap { index, reading in reading.problems.map { "poll \(index + 1): \($0)" } }
        if !problems.isEmpty { text += "\n" + problems.joined(separator: "\n") + "\n" }
        return text
    }

    /// A fixed-width table; columns from `rightAligned` on are right-aligned (numbers).
    public static func render(_ rows: [[String]], rightAligned: Int) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        let widths = (0..<width).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column >= rightAligned ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    /// JSON for one polled reading; values are exact JSON numbers in the vocabulary's units.
    public struct JSONReading: Encodable {
        public struct Value: Encodable {
            var quantity: String
            var obis: String?
            var value: Decimal
            var unit: String
        }
        var meter: String
        var unit: UInt8
        var profile: String
        var captureTime: String
        var captureTimeMillis: Int64
        var status: String
        var values: [Value]
        var notImplemented: [String]
        var problems: [String]

        public init(_ polled: PolledReading) {
            let reading = polled.reading
            meter = polled.meter
            unit = polled.unit
            profile = reading.profileID
            captureTime = isoTime(reading.captureTimeMillis)
            captureTimeMillis = reading.captureTimeMillis
            status = reading.status.rawValue
            values = reading.measurements.map {
                Value(quantity: $0.quantity.rawValue, obis: $0.quantity.obis, value: Decimal(string: $0.value.description) ?? 0, unit: $0.quantity.unit.rawValue)
            }
            notImplemented = reading.notImplemented.map(\.rawValue)
            problems = reading.problems
        }
    }

    public static func json(_ polled: [PolledReading]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = polled.count == 1 ? try encoder.encode(JSONReading(polled[0])) : try encoder.encode(polled.map(JSONReading.init))
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public static func isoTime(_ millis: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = Substring(self)
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
