/// The BDEW standard load profile H0 ("Standardlastprofil Haushalt"), the VDEW representative
/// household profile of 1999 still published by the BDEW: for each of 3 seasons × 3 day types, 96
/// quarter-hour values of average power in W for an annual consumption of 1 000 kWh, before
/// dynamisation.
///
/// Sources (the numbers are facts of the published profile; docs/COMMUNITY.md):
/// - VDEW (1999), "Repräsentative VDEW-Lastprofile", VDEW-Materialien, Frankfurt am Main,
///   https://www.bdew.de/media/documents/1999_Repraesentative-VDEW-Lastprofile.pdf, and the
///   profile values the BDEW publishes at https://www.bdew.de/energie/standardlastprofile-strom/.
/// - VDEW (2000), "Anwendung der Repräsentativen VDEW-Lastprofile step-by-step", M-05/2000,
///   https://www.bdew.de/media/documents/2000131_Anwendung-repraesentativen_Lastprofile-Step-by-step.pdf:
///   season and day-type rules and the dynamisation polynomial.
/// - The values were transcribed from the CC0 data set of the R package `standardlastprofile`
///   (M. Döring, CRAN 2023, file `inst/extdata/slp.csv`, profile `H0`), which tabulates the BDEW
///   values; checked against month-by-hour sums of the dynamised H0 for 2025 published by
///   github.com/kralo/stromdaten-deutschland-standardlastprofile (January, February and July
///   agree within 0.05 %).
///
/// ```swift
/// H0Profile.watts(season: .winter, dayType: .workday, quarterHour: 76)  // 184.7 (19:00–19:15)
/// H0Profile.dynamisationFactor(dayOfYear: 1)                             // 1.2421…
/// ```
public enum H0Profile {
    /// The profile's three seasons.
    public enum Season: Int, Sendable, Hashable, CaseIterable {
        /// 1 November – 20 March.
        case winter
        /// 15 May – 14 September.
        case summer
        /// 21 March – 14 May and 15 September – 31 October.
        case transition
    }

    /// The profile's three day types.
    public enum DayType: Int, Sendable, Hashable, CaseIterable {
        /// Monday to Friday ("Werktag").
        case workday
        /// Saturday, and 24 and 31 December when not a Sunday.
        case saturday
        /// Sunday and public holidays.
        case sunday
    }

    /// Which days count as public holidays (profile `sunday`).
    public enum Holidays: String, Sendable, Hashable, CaseIterable {
        /// None: only the weekday decides (and 24/31 December are not special).
        case none
        /// The nine nationwide German public holidays (New Year, Good Friday, Easter Monday,
        /// 1 May, Ascension, Whit Monday, 3 October, 25 and 26 December); 24 and 31 December use
        /// the Saturday profile unless they fall on a Sunday (BDEW rule). State holidays are not
        /// included.
        case germany
    }

    /// Quarter hours per day.
    public static let quarterHoursPerDay = 96

    /// Average power, W per 1 000 kWh/a, of quarter hour `quarterHour` (0 = 00:00–00:15 local
    /// time … 95 = 23:45–24:00) of a day of `season` and `dayType`, before dynamisation.
    public static func watts(season: Season, dayType: DayType, quarterHour: Int) -> Double {
        precondition((0..<quarterHoursPerDay).contains(quarterHour), "quarter hour \(quarterHour) out of range")
        return Double(deciwatts[index(season, dayType) * quarterHoursPerDay + quarterHour]) / 10
    }

    /// The 96 values of one season and day type, W per 1 000 kWh/a.
    public static func day(season: Season, dayType: DayType) -> [Double] {
        let start = index(season, dayType) * quarterHoursPerDay
        return deciwatts[start..<(start + quarterHoursPerDay)].map { Double($0) / 10 }
    }

    /// The dynamisation factor of the H0 profile for day `dayOfYear` (1 = 1 January … 366):
    /// F(t) = −3.92·10⁻¹⁰·t⁴ + 3.2·10⁻⁷·t³ − 7.02·10⁻⁵·t² + 2.1·10⁻³·t + 1.24 (VDEW 2000,
    /// step-by-step, p. 9). About 1.24 in early January, 0.79 in late June.
    public static func dynamisationFactor(dayOfYear t: Int) -> Double {
        let t = Double(t)
        // Horner's scheme: the same arithmetic on every platform (no library function).
        return (((-3.92e-10 * t + 3.2e-7) * t - 7.02e-5) * t + 2.1e-3) * t + 1.24
    }

    /// The season of a (local) calendar date.
    public static func season(month: Int, day: Int) -> Season {
        switch (month, day) {
        case (11...12, _), (1...2, _), (3, ...20): .winter
        case (5, 15...), (6...8, _), (9, ...14): .summer
        default: .transition
        }
    }

    /// The day type of a (local) calendar date.
    public static func dayType(year: Int, month: Int, day: Int, holidays: Holidays) -> DayType {
        let days = CivilDate.days(year: year, month: month, day: day)
        let weekday = CivilDate.weekday(days: days)  // 0 = Sunday
        if weekday == 0 { return .sunday }
        if holidays == .germany {
            if isGermanHoliday(year: year, month: month, day: day) { return .sunday }
            if month == 12, day == 24 || day == 31 { return .saturday }
        }
        return weekday == 6 ? .saturday : .workday
    }

    /// Whether a date is one of the nine nationwide German public holidays.
    public static func isGermanHoliday(year: Int, month: Int, day: Int) -> Bool {
        switch (month, day) {
        case (1, 1), (5, 1), (10, 3), (12, 25), (12, 26): return true
        default: break
        }
        let offset = CivilDate.days(year: year, month: month, day: day) - CivilDate.easterSunday(year: year)
        // Good Friday, Easter Monday, Ascension Day, Whit Monday.
        return [-2, 1, 39, 50].contains(offset)
    }

    static func index(_ season: Season, _ dayType: DayType) -> Int {
        season.rawValue * 3 + dayType.rawValue
    }

    /// The 9 × 96 values in tenths of a W per 1 000 kWh/a, season-major (winter, summer,
    /// transition), then workday, saturday, sunday; each line two hours from the time shown.
    static let deciwatts: [Int16] = [
        // Winter, workday
         676,  608,  549,  499,  462,  436,  419,  408,  // 00:00
         401,  396,  394,  391,  388,  386,  383,  383,  // 02:00
         384,  388,  393,  400,  409,  431,  477,  558,  // 04:00
         680,  828,  980, 1115, 1216, 1285, 1327, 1348,  // 06:00
        1354, 1348, 1331, 1307, 1277, 1246, 1215, 1190,  // 08:00
        1173, 1162, 1157, 1157, 1161, 1170, 1187, 1215,  // 10:00
        1254, 1296, 1330, 1348, 1342, 1317, 1280, 1240,  // 12:00
        1202, 1168, 1137, 1107, 1079, 1055, 1035, 1024,  // 14:00
        1022, 1032, 1056, 1099, 1160, 1237, 1326, 1423,  // 16:00
        1524, 1622, 1712, 1789, 1847, 1882, 1889, 1864,  // 18:00
        1807, 1727, 1639, 1556, 1489, 1434, 1384, 1332,  // 20:00
        1272, 1205, 1133, 1057,  980,  902,  825,  749,  // 22:00
        // Winter, saturday
         708,  682,  659,  633,  595,  550,  505,  466,  // 00:00
         439,  423,  414,  408,  403,  399,  395,  391,  // 02:00
         388,  385,  383,  383,  385,  391,  403,  424,  // 04:00
         456,  499,  553,  616,  689,  771,  861,  957,  // 06:00
        1058, 1158, 1249, 1323, 1376, 1411, 1433, 1448,  // 08:00
        1460, 1472, 1484, 1498, 1515, 1535, 1560, 1590,  // 10:00
        1624, 1658, 1684, 1698, 1694, 1676, 1648, 1615,  // 12:00
        1581, 1549, 1518, 1490, 1465, 1444, 1427, 1415,  // 14:00
        1409, 1417, 1449, 1515, 1619, 1746, 1874, 1981,  // 16:00
        2052, 2091, 2111, 2122, 2132, 2130, 2104, 2039,  // 18:00
        1929, 1790, 1644, 1515, 1419, 1353, 1310, 1282,  // 20:00
        1261, 1241, 1216, 1182, 1134, 1074, 1008,  941,  // 22:00
        // Winter, sunday
         875,  811,  750,  691,  634,  582,  536,  499,  // 00:00
         473,  455,  442,  433,  424,  415,  407,  400,  // 02:00
         393,  388,  385,  383,  383,  384,  387,  391,  // 04:00
         397,  404,  413,  424,  440,  466,  511,  583,  // 06:00
         686,  813,  952, 1090, 1219, 1337, 1444, 1540,  // 08:00
        1626, 1705, 1780, 1856, 1933, 2006, 2066, 2106,  // 10:00
        2118, 2102, 2059, 1989, 1896, 1787, 1673, 1565,  // 12:00
        1470, 1389, 1321, 1265, 1220, 1181, 1148, 1115,  // 14:00
        1083, 1059, 1052, 1074, 1129, 1209, 1300, 1390,  // 16:00
        1468, 1535, 1597, 1656, 1715, 1764, 1791, 1781,  // 18:00
        1729, 1647, 1556, 1473, 1414, 1372, 1337, 1298,  // 20:00
        1248, 1186, 1116, 1040,  962,  884,  807,  732,  // 22:00
        // Summer, workday
         863,  769,  688,  624,  580,  553,  536,  524,  // 00:00
         513,  503,  492,  483,  475,  469,  465,  466,  // 02:00
         471,  480,  493,  508,  527,  556,  605,  682,  // 04:00
         792,  920, 1047, 1157, 1235, 1286, 1320, 1348,  // 06:00
        1378, 1407, 1432, 1448, 1453, 1449, 1438, 1423,  // 08:00
        1408, 1395, 1385, 1382, 1386, 1401, 1426, 1465,  // 10:00
        1515, 1567, 1607, 1623, 1605, 1561, 1502, 1440,  // 12:00
        1384, 1336, 1294, 1257, 1224, 1196, 1174, 1157,  // 14:00
        1146, 1142, 1146, 1157, 1176, 1203, 1239, 1282,  // 16:00
        1332, 1389, 1451, 1515, 1579, 1638, 1683, 1706,  // 18:00
        1704, 1683, 1653, 1623, 1601, 1584, 1568, 1548,  // 20:00
        1519, 1479, 1425, 1357, 1272, 1175, 1071,  965,  // 22:00
        // Summer, saturday
         898,  849,  807,  766,  717,  666,  616,  574,  // 00:00
         545,  526,  514,  508,  503,  500,  499,  499,  // 02:00
         501,  504,  507,  508,  508,  509,  516,  533,  // 04:00
         562,  604,  658,  724,  800,  885,  974, 1065,  // 06:00
        1156, 1244, 1328, 1407, 1478, 1540, 1589, 1623,  // 08:00
        1641, 1647, 1650, 1656, 1671, 1694, 1724, 1756,  // 10:00
        1790, 1819, 1837, 1839, 1821, 1787, 1741, 1690,  // 12:00
        1637, 1589, 1546, 1515, 1496, 1486, 1480, 1473,  // 14:00
        1462, 1450, 1441, 1440, 1449, 1469, 1500, 1540,  // 16:00
        1588, 1640, 1692, 1740, 1778, 1805, 1818, 1814,  // 18:00
        1793, 1757, 1710, 1656, 1601, 1551, 1511, 1490,  // 20:00
        1489, 1496, 1494, 1465, 1398, 1303, 1195, 1090,  // 22:00
        // Summer, sunday
        1001,  925,  859,  799,  741,  687,  639,  599,  // 00:00
         570,  550,  535,  524,  515,  508,  502,  499,  // 02:00
         499,  500,  501,  499,  495,  489,  484,  483,  // 04:00
         487,  498,  519,  549,  592,  649,  723,  816,  // 06:00
         929, 1056, 1190, 1323, 1448, 1562, 1660, 1740,  // 08:00
        1800, 1846, 1887, 1931, 1983, 2037, 2087, 2122,  // 10:00
        2137, 2128, 2090, 2023, 1924, 1809, 1692, 1590,  // 12:00
        1514, 1460, 1416, 1373, 1324, 1270, 1216, 1165,  // 14:00
        1122, 1089, 1067, 1057, 1061, 1077, 1104, 1140,  // 16:00
        1183, 1234, 1292, 1357, 1428, 1498, 1557, 1598,  // 18:00
        1614, 1608, 1590, 1565, 1539, 1515, 1493, 1473,  // 20:00
        1454, 1430, 1392, 1332, 1244, 1138, 1025,  916,  // 22:00
        // Transition, workday
         778,  696,  624,  566,  525,  497,  479,  466,  // 00:00
         455,  445,  438,  433,  430,  430,  431,  433,  // 02:00
         434,  437,  442,  449,  463,  489,  537,  616,  // 04:00
         729,  863, 1001, 1124, 1218, 1285, 1329, 1357,  // 06:00
        1372, 1377, 1377, 1373, 1369, 1364, 1357, 1348,  // 08:00
        1337, 1324, 1314, 1307, 1306, 1315, 1336, 1373,  // 10:00
        1426, 1482, 1528, 1548, 1532, 1489, 1432, 1373,  // 12:00
        1324, 1284, 1248, 1215, 1181, 1148, 1117, 1090,  // 14:00
        1069, 1057, 1055, 1065, 1091, 1131, 1183, 1248,  // 16:00
        1324, 1406, 1491, 1573, 1649, 1711, 1752, 1765,  // 18:00
        1745, 1705, 1657, 1615, 1589, 1572, 1554, 1523,  // 20:00
        1472, 1403, 1321, 1232, 1140, 1048,  956,  866,  // 22:00
        // Transition, saturday
         802,  751,  707,  666,  623,  580,  541,  508,  // 00:00
         484,  468,  457,  449,  444,  439,  435,  433,  // 02:00
         431,  431,  431,  433,  436,  442,  454,  474,  // 04:00
         505,  549,  607,  682,  775,  879,  986, 1090,  // 06:00
        1184, 1267, 1338, 1398, 1447, 1488, 1524, 1556,  // 08:00
        1589, 1620, 1649, 1673, 1692, 1708, 1725, 1748,  // 10:00
        1777, 1808, 1831, 1839, 1827, 1798, 1758, 1715,  // 12:00
        1672, 1631, 1592, 1556, 1523, 1495, 1472, 1457,  // 14:00
        1450, 1454, 1467, 1490, 1523, 1564, 1615, 1673,  // 16:00
        1737, 1804, 1867, 1923, 1965, 1990, 1994, 1973,  // 18:00
        1924, 1852, 1766, 1673, 1579, 1495, 1429, 1390,  // 20:00
        1383, 1392, 1395, 1373, 1311, 1219, 1115, 1015,  // 22:00
        // Transition, sunday
         934,  868,  812,  757,  701,  645,  593,  549,  // 00:00
         517,  494,  478,  466,  455,  445,  438,  433,  // 02:00
         431,  431,  432,  433,  433,  433,  432,  433,  // 04:00
         435,  443,  460,  491,  539,  604,  688,  791,  // 06:00
         911, 1043, 1180, 1315, 1442, 1555, 1653, 1731,  // 08:00
        1788, 1831, 1870, 1914, 1970, 2030, 2085, 2122,  // 10:00
        2135, 2118, 2070, 1989, 1876, 1746, 1617, 1506,  // 12:00
        1428, 1376, 1339, 1307, 1271, 1231, 1190, 1149,  // 14:00
        1110, 1077, 1056, 1049, 1060, 1088, 1132, 1190,  // 16:00
        1260, 1337, 1415, 1490, 1555, 1606, 1636, 1640,  // 18:00
        1615, 1571, 1522, 1482, 1459, 1447, 1436, 1415,  // 20:00
        1375, 1318, 1247, 1165, 1076,  984,  892,  807,  // 22:00
    ]
}
