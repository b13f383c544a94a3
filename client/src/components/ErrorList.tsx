import type { ApiError } from '@/lib/request';

/** A form's errors: the services' messages as they are, as a list, next to the form. */
export function ErrorList({ errors, title = 'Please fix the following' }: { errors: ApiError[] | null; title?: string }) {
  if (!errors || errors.length === 0) return null;
  return (
    <div className="errors" role="alert" aria-live="assertive">
      <h4>{title}</h4>
      <ul>
        {errors.map((e, i) => (
          <li key={`${e.field ?? ''}-${i}`} data-field={e.field}>
            {e.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
