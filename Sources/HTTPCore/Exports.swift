// DateTime, PercentEncoding, Hex and Base64 live in Formats (Domain and Outbound use them too);
// every `import HTTPCore` keeps seeing them.
@_exported import Formats
