import FengqiaoCore
import Foundation

/// Converts Excel date serial numbers (1900 date system, the Windows default) to calendar dates.
public enum ImportExcelDate {
    /// The calendar date of a 1900-system serial: 1 → 1900-01-01, 61 → 1900-03-01,
    /// 45658 → 2025-01-01. The time-of-day fraction is dropped. Serial 60 is Excel's phantom
    /// 1900-02-29 (kept for Lotus 1-2-3 compatibility) and, like anything below 1 or past
    /// 9999-12-31 (2958465), gives nil.
    /// With `date1904` (a workbook whose `ImportXLSXReader.usesDate1904` is true) serial 0 is
    /// 1904-01-01 and there is no phantom day.
    public static func calendarDate(fromSerial serial: Double, date1904: Bool = false) -> CalendarDate? {
        guard serial.isFinite else { return nil }
        var days = Int(serial.rounded(.down))
        if date1904 {
            guard days >= 0, days < 2_957_004 else { return nil }
            days += 1462
        } else {
            guard days >= 1, days < 2_958_466 else { return nil }
            if days == 60 { return nil }
            if days < 60 { days += 1 }
        }
        // Days since 1899-12-30 → civil date (Howard Hinnant's days_from_civil inverse).
        let z = days - 25_569 + 719_468  // 1970-01-01 is serial 25569
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return try? CalendarDate(year: year, month: month, day: day)
    }

    /// Parses the cell text (`"45658"`, `"45658.5"`) and converts it; nil when it is no serial.
    public static func calendarDate(fromCellText text: String, date1904: Bool = false) -> CalendarDate? {
        Double(text.trimmingCharacters(in: .whitespaces)).flatMap { calendarDate(fromSerial: $0, date1904: date1904) }
    }
}
