import Link from 'next/link';
import type { CurrentUser } from '@/lib/types';

// `currentUser` is undefined on pages that cannot know it (404, 500): no account links there.
export function Header({ currentUser }: { currentUser: CurrentUser | null | undefined }) {
  const links = currentUser === undefined
    ? []
    : currentUser
    ? [
        { label: 'Sell tickets', href: '/tickets/new' },
        { label: 'My orders', href: '/orders' },
        { label: 'Sign out', href: '/auth/signout' },
      ]
    : [
        { label: 'Sign up', href: '/auth/signup' },
        { label: 'Sign in', href: '/auth/signin' },
      ];
  return (
    <header className="header">
      <nav className="container header-inner" aria-label="Main">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true" /> Ticketing
        </Link>
        <div className="header-right">
          {currentUser && (
            <span className="who" data-testid="current-user">
              {currentUser.email}
            </span>
          )}
          <ul className="nav-links">
            {links.map(({ label, href }) => (
              <li key={href}>
                <Link href={href}>{label}</Link>
              </li>
            ))}
          </ul>
        </div>
      </nav>
    </header>
  );
}
