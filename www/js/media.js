// What ffprobe found, as the Files and Fetch APIs give it: {duration, format_name, bit_rate, size,
// streams: [{type, codec, width, height, fps, sample_rate, channels}]}.

import { bytes, h, seconds } from "./dom.js";

/** "320×240" of the first video stream, or null. */
export function resolution(probe) {
  const video = probe?.streams?.find((s) => s.type === "video" && s.width && s.height);
  return video ? `${video.width}×${video.height}` : null;
}

/** "h264, aac": each stream's codec once, in order. */
export function codecs(probe) {
  const names = (probe?.streams || []).map((s) => s.codec).filter(Boolean);
  return [...new Set(names)].join(", ") || null;
}

/** A <dl> of the probe: duration, resolution, codecs, streams, container, bit rate. */
export function probeDetails(probe, idPrefix) {
  if (!probe) return h("p.muted", {}, "No media details yet.");
  const rows = [
    ["Duration", seconds(probe.duration), "duration"],
    ["Resolution", resolution(probe) || "—", "resolution"],
    ["Codecs", codecs(probe) || "—", "codecs"],
    ["Streams", (probe.streams || []).map(streamText).join("; ") || "—", "streams"],
    ["Container", probe.format_name || "—", "container"],
    ["Bit rate", probe.bit_rate ? `${Math.round(probe.bit_rate / 1000)} kb/s` : "—", "bitrate"],
    ["Size", probe.size ? bytes(probe.size) : "—", "size"],
  ];
  return h("dl.details", {}, rows.map(([term, value, key]) => [
    h("dt", {}, term), h("dd", { id: idPrefix ? `${idPrefix}-${key}` : null }, value)]));
}

function streamText(stream) {
  const parts = [stream.type, stream.codec].filter(Boolean);
  if (stream.width && stream.height) parts.push(`${stream.width}×${stream.height}`);
  if (stream.fps) parts.push(`${stream.fps} fps`);
  if (stream.sample_rate) parts.push(`${stream.sample_rate} Hz`);
  if (stream.channels) parts.push(`${stream.channels} ch`);
  return parts.join(" ");
}
