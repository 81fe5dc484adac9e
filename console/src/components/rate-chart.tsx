// Events per second by type over the last minutes, drawn with uPlot: one line per type (the busiest
// few, the rest summed as "other"), redrawn each second from the counts the page keeps.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface RateSeries {
  /** Seconds since the epoch, one per bucket, oldest first. */
  readonly seconds: readonly number[];
  /** Type -> events in each bucket. */
  readonly byType: ReadonlyMap<string, readonly number[]>;
}

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#64748b'];

export function RateChart({ data, height = 220 }: { data: RateSeries; height?: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef('');

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const types = [...data.byType.keys()];
    const key = types.join('|');
    const aligned: uPlot.AlignedData = [data.seconds as number[], ...types.map((t) => data.byType.get(t) as number[])];
    if (!plot.current || shape.current !== key) {
      plot.current?.destroy();
      shape.current = key;
      plot.current = new uPlot(
        {
          width: Math.max(320, el.clientWidth),
          height,
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [{}, { label: 'events/s' }],
          series: [{}, ...types.map((t, i) => ({ label: t, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: false } }))],
          legend: { live: false },
        },
        aligned,
        el,
      );
    } else {
      plot.current.setData(aligned);
    }
  }, [data, height]);

  useEffect(() => {
    const onResize = () => {
      if (plot.current && host.current) plot.current.setSize({ width: Math.max(320, host.current.clientWidth), height });
    };
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [height]);

  return <div ref={host} className="chart" data-testid="rate-chart" />;
}
